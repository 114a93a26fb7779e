import ServiceCore

// Placeholder until this executable is written.
print("gateway: not implemented yet")
