"""Studies that run many trainings and set their errors beside the theory's numbers.

``blowup`` (``pinnkit study blowup``) and ``deeponet_size`` (``pinnkit study deeponet-size``); ``jobs`` holds
their bookkeeping: job fingerprints, digest-checked records, per-job lock files and pool workers that die with
the main process (:class:`~pinnkit.studies.jobs.StudyInterrupted` is what a study raises on Ctrl-C)."""
