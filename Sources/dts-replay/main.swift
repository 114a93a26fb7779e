import ServiceCore

// Placeholder until this executable is written.
print("dts-replay: not implemented yet")
