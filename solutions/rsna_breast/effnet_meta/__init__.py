"""rsna-breast effnet-meta: EfficientNet scan embeddings fused with metadata, per CV fold."""

from solutions.rsna_breast.effnet_meta.solution import EffnetMetaConfig, EffnetMetaSolution

__all__ = ["EffnetMetaConfig", "EffnetMetaSolution"]
