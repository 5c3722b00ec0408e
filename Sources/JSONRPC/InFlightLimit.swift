#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Input backpressure: how many messages may be read but not yet finished (lines queued
/// for the connection plus handlers running) before the reader stops reading.
///
/// The reader thread takes a slot per line and blocks on a condition variable while all
/// slots are taken: no polling, and the client's writes then block in the pipe, which is
/// the backpressure it sees. The connection gives the slots of a read's lines back once
/// those lines are handled, and takes one for each handler it starts until that handler
/// is answered
/// (a batch may take more than the limit: its line was already read). While one of our
/// own requests awaits the client's answer the limit is lifted, since that answer comes
/// on the same input and waiting for it with the reader stopped would deadlock.
/// (pthreads rather than `Mutex`, the lock used elsewhere: the reader thread must sleep
/// on a condition variable, which `Mutex` does not have.)
final class InFlightLimit: @unchecked Sendable {
    // @unchecked: every stored var is read and written only between lock and unlock of
    // `mutex`; `condition` is only waited on with `mutex` held.
    let limit: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var taken = 0
    private var awaitingClient = 0
    private var closed = false

    init(limit: Int) {
        precondition(limit > 0, "the limit of messages in flight must be positive")
        self.limit = limit
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Takes a slot for a line just read, first waiting (blocking the calling thread) while
    /// none is free. `false` once ``close()`` was called: the reader should stop.
    func acquireForLine() -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !closed && taken >= limit && awaitingClient == 0 {
            pthread_cond_wait(condition, mutex)
        }
        guard !closed else { return false }
        taken += 1
        return true
    }

    /// Takes up to `count` slots for lines just read: as many as are free, first waiting
    /// (blocking the calling thread) while none is. `0` once ``close()`` was called.
    func acquire(upTo count: Int) -> Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !closed && taken >= limit && awaitingClient == 0 {
            pthread_cond_wait(condition, mutex)
        }
        guard !closed else { return 0 }
        // While the client's answer is awaited the limit is lifted (see the type's comment).
        let granted = awaitingClient > 0 ? count : min(count, limit - taken)
        taken += granted
        return granted
    }

    /// Takes `count` slots without waiting (for handlers started from a line already read).
    func take(_ count: Int) {
        guard count > 0 else { return }
        update { $0.taken += count }
    }

    /// Gives back `count` slots (a line handled, handlers answered).
    func release(_ count: Int) {
        guard count > 0 else { return }
        update { $0.taken -= count }
    }

    /// One of our requests to the client starts or stops waiting for its answer.
    func awaitingClientAnswer(_ waiting: Bool) {
        update { $0.awaitingClient += waiting ? 1 : -1 }
    }

    /// Wakes the reader for good: it takes no more slots.
    func close() {
        update { $0.closed = true }
    }

    /// Slots taken now (lines queued plus handlers running), for tests.
    var inFlight: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return taken
    }

    private func update(_ change: (InFlightLimit) -> Void) {
        pthread_mutex_lock(mutex)
        change(self)
        // Broadcast: there is one waiter (the reader), and spurious wake-ups are re-checked.
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
