import Foundation
import GRDB

/// Where the server keeps its data.
public enum DatabaseLocation: Sendable, Equatable {
    /// A SQLite file, created on first use; survives restarts.
    case file(String)
    /// A private in-memory database, gone when the server stops (tests, demos).
    case inMemory
}

enum ServerDatabase {
    /// Opens (creating if needed) and migrates the database.
    static func open(_ location: DatabaseLocation) throws -> any DatabaseWriter {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another process (a second server on the same file by mistake) waits a bit
        // instead of failing at once.
        configuration.busyMode = .timeout(5)
        let writer: any DatabaseWriter
        switch location {
        case .file(let path):
            writer = try DatabaseQueue(path: path, configuration: configuration)
        case .inMemory:
            writer = try DatabaseQueue(configuration: configuration)
        }
        try migrator.migrate(writer)
        return writer
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE application (
                        code TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        userDataAuthorization TEXT NOT NULL,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE TABLE secretKey (
                        keyId TEXT PRIMARY KEY NOT NULL,
                        applicationCode TEXT NOT NULL REFERENCES application(code) ON DELETE CASCADE,
                        secret TEXT NOT NULL,
                        createdAt DATETIME NOT NULL,
                        revokedAt DATETIME
                    );
                    CREATE INDEX secretKey_application ON secretKey(applicationCode);
                    CREATE TABLE person (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        applicationCode TEXT NOT NULL REFERENCES application(code) ON DELETE CASCADE,
                        externalUserId TEXT,
                        firstName TEXT,
                        lastName TEXT,
                        middleName TEXT,
                        birthday TEXT,
                        gender TEXT,
                        type TEXT NOT NULL,
                        tags TEXT NOT NULL,
                        customAttributes TEXT NOT NULL,
                        createdAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL
                    );
                    -- NULLs are distinct in a SQLite unique index: anonymous people do not collide.
                    CREATE UNIQUE INDEX person_externalUserId ON person(applicationCode, externalUserId);
                    CREATE TABLE contact (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        personId INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
                        applicationCode TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        value TEXT NOT NULL,
                        normalized TEXT NOT NULL,
                        preferred BOOLEAN NOT NULL,
                        position INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX contact_unique ON contact(applicationCode, kind, normalized);
                    CREATE INDEX contact_person ON contact(personId);
                    CREATE TABLE installation (
                        pushRegId TEXT PRIMARY KEY NOT NULL,
                        applicationCode TEXT NOT NULL REFERENCES application(code) ON DELETE CASCADE,
                        personId INTEGER NOT NULL REFERENCES person(id),
                        isPrimary BOOLEAN NOT NULL,
                        attributes TEXT NOT NULL,
                        createdAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL
                    );
                    CREATE INDEX installation_person ON installation(personId);
                    CREATE INDEX installation_application ON installation(applicationCode);
                    """)
        }
        // The dynamic base URL an application's clients are steered to (`New-Base-URL`).
        migrator.registerMigration("v2-application-baseUrl") { db in
            try db.execute(sql: "ALTER TABLE application ADD COLUMN baseUrl TEXT")
        }
        // Custom event definitions and the events received.
        migrator.registerMigration("v3-custom-events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE eventDefinition (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        applicationCode TEXT NOT NULL REFERENCES application(code) ON DELETE CASCADE,
                        definitionId TEXT NOT NULL,
                        name TEXT NOT NULL,
                        properties TEXT NOT NULL,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE UNIQUE INDEX eventDefinition_unique ON eventDefinition(applicationCode, definitionId);
                    CREATE TABLE customEvent (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        applicationCode TEXT NOT NULL REFERENCES application(code) ON DELETE CASCADE,
                        definitionId TEXT NOT NULL,
                        date TEXT NOT NULL,
                        properties TEXT NOT NULL,
                        pushRegId TEXT NOT NULL,
                        personId INTEGER NOT NULL,
                        externalUserId TEXT,
                        valid BOOLEAN NOT NULL,
                        invalidReason TEXT,
                        receivedAt DATETIME NOT NULL
                    );
                    CREATE INDEX customEvent_application ON customEvent(applicationCode);
                    CREATE INDEX customEvent_person ON customEvent(personId);
                    """)
        }
        // Inboxes: messages per application and external user id.
        migrator.registerMigration("v4-inbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE inboxMessage (
                        messageId TEXT PRIMARY KEY NOT NULL,
                        applicationCode TEXT NOT NULL REFERENCES application(code) ON DELETE CASCADE,
                        externalUserId TEXT NOT NULL,
                        title TEXT,
                        body TEXT NOT NULL,
                        topic TEXT NOT NULL,
                        sound TEXT,
                        vibrate BOOLEAN NOT NULL,
                        silent BOOLEAN NOT NULL,
                        customPayload TEXT NOT NULL,
                        sentTimestamp INTEGER NOT NULL,
                        seen BOOLEAN NOT NULL,
                        seenTimestamp INTEGER
                    );
                    CREATE INDEX inboxMessage_inbox ON inboxMessage(applicationCode, externalUserId, sentTimestamp);
                    """)
        }
        return migrator
    }
}
