import ServiceCore

// Placeholder until this executable is written.
print("trigger-worker: not implemented yet")
