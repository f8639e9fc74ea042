"""Build clusters: the cluster client (clusters.py) and the pods of jobs (pods.py).

Importing this package imports nothing heavy; `kubernetes` is loaded when a client is built.
"""
