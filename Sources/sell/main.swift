import ServiceCore

// Placeholder until this executable is written.
print("sell: not implemented yet")
