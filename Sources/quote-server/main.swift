import QuoteCore
import ServiceCore

// The quote-server simulator (Sources/QuoteCore).
QuoteServer.serve(environment: ProcessEnvironment.variables)
