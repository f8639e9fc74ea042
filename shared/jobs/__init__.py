"""ProwJob records: the model and state machine (model.py), build ids (buildid.py), records from the
config as Prow's pjutil builds them (create.py), the Table store with its key design (store.py),
concurrency slots (limits.py) and the `prowjobs` queue (queue.py)."""
