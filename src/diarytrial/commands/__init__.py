"""Our own sub-commands of `diarytrial`; each module registers one command group."""
