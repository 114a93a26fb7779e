import ServiceCore

// Placeholder until this executable is written.
print("user-utilities: not implemented yet")
