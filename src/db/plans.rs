//! SQLite's query plans on the migrated schema, for the tests that prove a statement reads an
//! index in order and no further (compiled for tests only).

use rusqlite::Connection;

use super::connection::Repo;

/// A migrated SQLite database, kept as long as this lives.
pub struct Plans {
    conn: Connection,
    _dir: tempfile::TempDir,
}

impl Plans {
    /// A migrated database in a temporary directory.
    pub async fn migrated() -> Plans {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.sqlite3");
        let repo = Repo::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        repo.migrate().await.unwrap();
        Plans { conn: Connection::open(&path).unwrap(), _dir: dir }
    }

    /// `EXPLAIN QUERY PLAN`'s details of `statement`, one line each.
    pub fn plan(&self, statement: sea_orm::sea_query::SelectStatement) -> String {
        let sql = statement.to_string(sea_orm::sea_query::SqliteQueryBuilder);
        let mut explain = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = explain.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }
}
