import ServiceCore

// Placeholder until this executable is written.
print("auth: not implemented yet")
