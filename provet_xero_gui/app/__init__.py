"""The application layer: the use cases the window and the command line share, over sync, mapping and tie-out."""
