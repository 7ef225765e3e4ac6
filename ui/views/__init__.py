"""The tabs of the review app, one module each; ``context`` holds what they share."""
