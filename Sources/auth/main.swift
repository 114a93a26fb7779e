import AuthCore
import Glibc
import ServiceCore

// The authentication service (Sources/AuthCore); flags only pick a one-off mode.
let environment = ProcessEnvironment.variables
let command = AuthCommand.parseOrExit()
if command.benchHash {
    AuthService.benchHash(command.iterations, environment: environment)
    exit(0)
}
AuthService.serve(environment: environment)
