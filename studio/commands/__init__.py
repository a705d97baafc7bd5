"""The headless sub-commands of ``studio`` (render, resume, bench): each module exposes ``add_arguments(parser)``
and ``run(args) -> int``; ``studio.cli`` only dispatches to them. They run the engine in this process, never Qt."""
