import ServiceCore

// Placeholder until this executable is written.
print("dts-load: not implemented yet")
