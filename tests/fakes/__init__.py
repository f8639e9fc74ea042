"""In-process fakes of the outside systems the app talks to (GitHub, ...), served over real HTTP."""
