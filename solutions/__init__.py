"""Built-in solution plug-ins, one package per task and solution."""
