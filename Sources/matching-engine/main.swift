import ServiceCore

// Placeholder until this executable is written.
print("matching-engine: not implemented yet")
