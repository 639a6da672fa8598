//! End-to-end: the real binary's `registry` and `rdap` subcommands.
use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_abusedesk"))
}

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn registry_check_and_lookup() {
    let d = dir("registry_check_and_lookup");
    std::fs::write(
        d.join("networks.csv"),
        "prefix,description\n203.0.113.0/24,dial-up pool\n",
    )
    .unwrap();
    std::fs::write(
        d.join("contracts.csv"),
        "id,name,email,parent,language\nR-1,Reseller,noc@r.example,,ja\nC-1,Alice,a@a.example,R-1,\n",
    )
    .unwrap();
    std::fs::write(
        d.join("assignments.csv"),
        "prefix,contract,valid_from,valid_to\n203.0.113.7,C-1,2002-03-31T00:00:00Z,2002-04-01T00:00:00Z\n",
    )
    .unwrap();
    std::fs::write(
        d.join("domains.json"),
        r#"[{"domain": "shop.example", "contract": "C-1"}]"#,
    )
    .unwrap();
    let files = |c: &mut Command| {
        c.arg("--networks")
            .arg(d.join("networks.csv"))
            .arg("--contracts")
            .arg(d.join("contracts.csv"))
            .arg("--assignments")
            .arg(d.join("assignments.csv"))
            .arg("--domains")
            .arg(d.join("domains.json"));
    };

    let mut c = bin();
    c.args(["registry", "check"]);
    files(&mut c);
    let o = c.output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.starts_with("ok: 1 assignments"), "{out}");

    let mut c = bin();
    c.args(["registry", "lookup", "--at", "2002-03-31T21:07:53+09:00"]);
    files(&mut c);
    c.args([
        "203.0.113.7",
        "203.0.113.8",
        "www.shop.example",
        "http://203.0.113.7/x",
    ]);
    let o = c.output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with("  ")).collect();
    assert_eq!(
        lines,
        [
            "203.0.113.7 at 2002-03-31T12:07:53Z: held by C-1 (row 0 203.0.113.7/32 -> C-1 [2002-03-31T00:00:00Z, 2002-04-01T00:00:00Z))",
            "203.0.113.8 at 2002-03-31T12:07:53Z: our address space (203.0.113.0/24), assigned to nobody at that time",
            "www.shop.example at 2002-03-31T12:07:53Z: hosted for C-1 (row 1 shop.example -> C-1 (always, open))",
            "203.0.113.7 at 2002-03-31T12:07:53Z: held by C-1 (row 0 203.0.113.7/32 -> C-1 [2002-03-31T00:00:00Z, 2002-04-01T00:00:00Z))",
        ]
    );

    let mut c = bin();
    c.args([
        "registry",
        "lookup",
        "--json",
        "--at",
        "2002-03-31T12:07:53Z",
    ]);
    files(&mut c);
    c.arg("203.0.113.7");
    let o = c.output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "assigned");
    assert_eq!(v["match"]["contract"], "C-1");
}

#[test]
fn registry_check_reports_every_problem() {
    let d = dir("registry_check_reports_every_problem");
    std::fs::write(
        d.join("a.csv"),
        "prefix,contract,valid_from,valid_to\n203.0.113.7/24,C-1,,\n203.0.113.8,C-1,2002-03-31T00:00:00,\n",
    )
    .unwrap();
    let o = bin()
        .args(["registry", "check", "--assignments"])
        .arg(d.join("a.csv"))
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(err.contains("line 2, column prefix:"), "{err}");
    assert!(err.contains("line 3, column valid_from:"), "{err}");

    let o = bin()
        .args(["registry", "lookup", "--at", "yesterday", "--assignments"])
        .arg(d.join("a.csv"))
        .arg("203.0.113.7")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn rdap_against_a_local_responder() {
    use axum::Router;
    let body = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../rdap/tests/data/corpus/ipwhois/responses/74.125.225.229.json"),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/ip/{ip}",
        axum::routing::get(move || {
            let b = body.clone();
            async move { b }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let o = bin()
        .args([
            "rdap",
            "--base-url",
            &format!("http://{addr}/"),
            "74.125.225.229",
        ])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.starts_with("74.125.225.229: NET-74-125-0-0-1 GOOGLE (74.125.0.0/16)"),
        "{out}"
    );
    assert!(
        out.contains("abuse contact: arin-contact@google.com (rule nested_abuse_role"),
        "{out}"
    );
    drop(rt);
}
