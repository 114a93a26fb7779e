import FoundationEssentials
import QuoteCore

// The quote-server simulator (Sources/QuoteCore).
QuoteServer.serve(environment: ProcessInfo.processInfo.environment)
