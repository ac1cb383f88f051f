"""What happens to a file (splitter) and to a chunk (consumer): the domain of the pipeline."""
