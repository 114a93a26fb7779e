import ServiceCore

// Placeholder until this executable is written.
print("buy: not implemented yet")
