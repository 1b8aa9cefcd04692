"""One month's figures, computed once and read by every surface (:mod:`.month`; the contract's tables of any month: :mod:`.compute`)."""
