//! How long collecting the full state of a PostgreSQL server takes: a real
//! PostgreSQL 15 server with 200 roles and 2,000 table grants (plus their
//! memberships), read through the same collector `scan --postgres` uses.
//! Run with `cargo bench --bench postgres_collect`; figures go to
//! docs/benchmarks.md.

// The integration tests' helpers; this bench uses only the PostgreSQL server
// (public, so the helpers it does not use are not dead code here).
#[path = "../tests/integration/common/mod.rs"]
pub mod common;

use std::time::{Duration, Instant};

use common::pgserver::{PgServer, DEFAULT_HBA, PASSWORD};
use driftaudit::sources::postgres::{live, PostgresOptions};

const ROLES: usize = 200;
const TABLES: usize = 200;
const GRANTEES_PER_TABLE: usize = 10;
const RUNS: usize = 30;

fn main() {
    let server = PgServer::running("", DEFAULT_HBA);
    server.psql("postgres", "CREATE DATABASE bench");
    let mut sql = String::from("CREATE SCHEMA app;\n");
    for r in 0..ROLES {
        sql.push_str(&format!("CREATE ROLE role_{r:03} LOGIN;\n"));
        if r % 4 == 0 && r > 0 {
            sql.push_str(&format!("GRANT role_{:03} TO role_{r:03};\n", r - 1));
        }
    }
    for t in 0..TABLES {
        sql.push_str(&format!("CREATE TABLE app.t_{t:03} (id int);\n"));
        for g in 0..GRANTEES_PER_TABLE {
            let role = (t * GRANTEES_PER_TABLE + g) % ROLES;
            sql.push_str(&format!(
                "GRANT SELECT ON app.t_{t:03} TO role_{role:03};\n"
            ));
        }
    }
    server.psql("bench", &sql);
    let grants = server.psql(
        "bench",
        "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a WHERE c.relnamespace = 'app'::regnamespace AND a.grantee <> c.relowner",
    );
    // The collector reads the password the way the CLI does.
    std::env::set_var("PGPASSWORD", PASSWORD);
    let options = PostgresOptions::parse(&server.dsn("bench"), None).expect("valid DSN");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut resources = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let target = runtime.block_on(live::collect(&options));
        times.push(started.elapsed());
        assert!(target.coverage.is_empty(), "{:?}", target.coverage);
        resources = target.inventory.len();
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "postgres collect: {ROLES} roles, {grants} table grants, {resources} resources; \
         {RUNS} runs: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS - 1])
    );
}
