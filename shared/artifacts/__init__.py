"""Prow's bucket layout in Azure Blob (spec §5): paths, the JSON records, the ArtifactStore, decoration.

`paths`, `records` and `store` import nothing else from the app, so the pod images (images/) ship
them as they are; `decorate` and `fallback` are the app's side (pod builder, reconciler).
"""
