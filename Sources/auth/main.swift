import AuthCore
import FoundationEssentials
import Glibc

// The authentication service (Sources/AuthCore); flags only pick a one-off mode.
let environment = ProcessInfo.processInfo.environment
let command = AuthCommand.parseOrExit()
if command.benchHash {
    AuthService.benchHash(command.iterations, environment: environment)
    exit(0)
}
AuthService.serve(environment: environment)
