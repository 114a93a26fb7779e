import ServiceCore

// Placeholder until this executable is written.
print("quote-server: not implemented yet")
