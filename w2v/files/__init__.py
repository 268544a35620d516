"""Files on disk: vector formats, fastText .bin, the model file and the projector export."""
