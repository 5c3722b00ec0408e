import JSON
import Logging

// Values tests start from.

/// A logger that stays quiet unless a test fails loudly enough to need it.
let quietLogger: Logger = {
    var logger = Logger(label: "mobile-messaging-tests")
    logger.logLevel = .critical
    return logger
}()

extension JSONValue {
    init(parsing text: String) {
        self = try! JSONParser.parse(text)
    }
}
