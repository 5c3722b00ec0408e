import TestSupport

@testable import MMCoreEngine

/// The shared settable wall clock (``TestSupport/TestClock``), visible to every file of
/// this target without each importing the support module.
typealias TestClock = TestSupport.TestClock

extension TestClock {
    /// The engine's tests start at ``TokenFactory/now``, the instant their tokens are
    /// minted around.
    convenience init() { self.init(secondsSince1970: TokenFactory.now) }

    /// The clock as the session reads it.
    var wallClock: WallClock { WallClock { [self] in secondsSince1970 } }
}

/// Monotonic time that moves on with the real clock, plus whatever a test adds with
/// ``advance(by:)`` (so a `Retry-After` window stays open until the test says otherwise,
/// however slow the machine, as long as the test holds it with ``pause()``).
final class TestMonotonicClock: Sendable {
    private let state = Locked<(paused: ContinuousClock.Instant?, offset: Duration)>((nil, .zero))

    var clock: MonotonicClock {
        MonotonicClock { [state] in
            let (paused, offset) = state.current
            return (paused ?? ContinuousClock.now) + offset
        }
    }

    /// Stops time where it is.
    func pause() { state.withLock { $0.paused = ContinuousClock.now } }

    /// Moves time on by `duration` and lets it run again.
    func advance(by duration: Duration) {
        state.withLock { value in
            if let paused = value.paused { value.offset += paused + duration - ContinuousClock.now }
            value.paused = nil
        }
    }
}
