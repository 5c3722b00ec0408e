import Foundation
import Synchronization

/// Wall-clock time that moves only when a test moves it, so that token lifetimes and
/// expiry are judged at instants the test chose, however slow the machine.
///
/// Each test target says where its time starts (the engine's tests at the instant their
/// tokens are minted around, the server's at the real time).
public final class TestClock: Sendable {
    private let seconds: Mutex<Double>

    public init(secondsSince1970: Double) {
        seconds = Mutex(secondsSince1970)
    }

    public convenience init(startingAt date: Date) {
        self.init(secondsSince1970: date.timeIntervalSince1970)
    }

    public var secondsSince1970: Double { seconds.withLock { $0 } }

    public var now: Date { Date(timeIntervalSince1970: secondsSince1970) }

    /// Moves time on by `seconds`.
    public func advance(_ seconds: Double) {
        self.seconds.withLock { $0 += seconds }
    }

    /// Sets time to an instant.
    public func set(secondsSince1970: Double) {
        seconds.withLock { $0 = secondsSince1970 }
    }
}
