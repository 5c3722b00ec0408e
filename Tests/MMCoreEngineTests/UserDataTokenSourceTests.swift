import Testing
import UserDataJWT

@testable import MMCoreEngine

@Suite struct UserDataTokenSourceTests {
    @Test func nullAndEmptyClearAnyOtherStringIsKeptAndCheckedWhenUsed() throws {
        var source = UserDataTokenSource()
        let changed = source.set(TokenFactory.token())
        let unchanged = source.set(TokenFactory.token())
        #expect(changed && !unchanged, "the same token is no change")
        #expect(try source.validated(now: TokenFactory.now) == TokenFactory.token())
        source.set("")
        #expect(source.token == nil)
        #expect(try source.validated(now: TokenFactory.now) == nil)

        source.set("   ")
        #expect(source.token == "   ", "a blank token is kept, as the native bridges do")
        #expect(throws: UserDataJWTError.self) { try source.validated(now: TokenFactory.now) }
        #expect((try? source.validated(now: TokenFactory.now)) == nil)
    }

    @Test func expiryIsCheckedAtUseAndTheSummaryNeverHoldsTheToken() {
        var source = UserDataTokenSource()
        let token = TokenFactory.token(exp: TokenFactory.now + 10)
        source.set(token)
        #expect(source.expires(within: 30, now: TokenFactory.now))
        #expect(!source.expires(within: 5, now: TokenFactory.now))
        #expect((try? source.validated(now: TokenFactory.now + 11)) == nil)
        for part in token.split(separator: ".") { #expect(!source.summary.contains(part)) }
    }
}
