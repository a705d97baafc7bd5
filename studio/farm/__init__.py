"""The render farm: the same engine in Ray actors, for several GPUs or machines (docs/FARM.md).

``schedule`` decides what can run (pure, no Ray); ``worker`` is the actor that runs the engine on one GPU or CPU slot;
``pool`` keeps the actors; ``driver`` runs takes on the pool and is the only writer of their folders; ``cluster``
connects to Ray and describes the cluster. Nothing here imports Qt, and a local job never imports this package.
"""
