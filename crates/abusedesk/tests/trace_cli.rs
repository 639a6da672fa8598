//! End-to-end tests of `abusedesk trace`: the real binary, real files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_abusedesk"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/forum-002.eml")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("abusedesk-trace-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn text_report_of_the_sample() {
    let o = bin()
        .args(["trace", "--trusted", "211.129.14.73"])
        .arg(sample())
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let s = stdout(&o);
    assert!(
        s.contains("Origin     143.90.172.25  TKYca-0315p25.ppp.odn.ad.jp  [JP]"),
        "{s}"
    );
    assert!(s.contains("HELO aak48900 (no_dot)"), "{s}");
    assert!(s.contains("worm_pattern"), "{s}");
}

#[test]
fn json_schema_keys() {
    let o = bin()
        .args(["trace", "--format", "json", "--trusted", "211.129.14.73/32"])
        .arg(sample())
        .output()
        .unwrap();
    assert!(o.status.success());
    let v = &json_lines(&o)[0];
    assert!(v["file"].as_str().unwrap().ends_with("forum-002.eml"));
    assert_eq!(
        v["message_id"],
        "20020331120753.229F49A54@m-kg201p.ocn.ne.jp"
    );
    let origin = &v["origin"];
    for k in [
        "ip",
        "helo",
        "rdns",
        "by",
        "hop",
        "date",
        "country",
        "helo_class",
    ] {
        assert!(origin.get(k).is_some(), "origin.{k}");
    }
    assert_eq!(origin["ip"], "143.90.172.25");
    assert_eq!(origin["helo_class"], "no_dot");
    for hop in v["hops"].as_array().unwrap() {
        for k in [
            "from_helo",
            "from_rdns",
            "from_ip",
            "by",
            "protocol",
            "tls",
            "date",
            "trusted",
            "parsed",
            "raw",
        ] {
            assert!(hop.get(k).is_some(), "hop.{k}");
        }
    }
    assert_eq!(v["envelope_from"]["class"], "null");
    assert!(v["envelope_from"].get("matches_header_from").is_some());
    assert!(v.get("header_from").is_some());
    let names: Vec<&str> = v["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"worm_pattern"));
    assert!(v["indicators"][0]["evidence"].is_string());
}

#[test]
fn mbox_maildir_directory_and_stdin() {
    let d = tmpdir("inputs");
    let one = std::fs::read(sample()).unwrap();
    let mut mbox = b"From a@example.org Thu Aug 22 13:17:22 2002\n".to_vec();
    mbox.extend_from_slice(&one);
    mbox.extend_from_slice(
        b"\nFrom b@example.org Thu Aug 22 13:17:23 2002\nSubject: two\n\nbody\n",
    );
    std::fs::write(d.join("box.mbox"), &mbox).unwrap();
    let md = d.join("Maildir");
    for s in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(s)).unwrap();
    }
    std::fs::write(md.join("cur/1:2,S"), &one).unwrap();
    std::fs::write(md.join("new/2"), &one).unwrap();
    std::fs::write(md.join("tmp/3"), b"partial").unwrap();

    let o = bin()
        .args(["trace", "--format", "json"])
        .arg(d.join("box.mbox"))
        .output()
        .unwrap();
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 2);
    assert!(lines[1]["file"].as_str().unwrap().ends_with("box.mbox#2"));
    assert_eq!(lines[1]["subject"], "two");

    let o = bin()
        .args(["trace", "--format", "json"])
        .arg(&md)
        .output()
        .unwrap();
    assert_eq!(json_lines(&o).len(), 2, "Maildir cur/ and new/, not tmp/");

    let o = bin()
        .args(["trace", "--format", "json", "--jobs", "2"])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(
        json_lines(&o).len(),
        4,
        "a directory: the mbox's two and the Maildir's two"
    );

    let mut child = bin()
        .args(["trace", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&one).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let lines = json_lines(&o);
    assert_eq!(lines[0]["file"], "-");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn exit_codes() {
    let o = bin()
        .args(["trace", "/nonexistent/message.eml"])
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/message.eml"));
    assert!(
        stdout(&o).contains("143.90.172.25"),
        "readable inputs are still traced"
    );

    let o = bin()
        .args(["trace", "--trusted", "not-a-network"])
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin().args(["trace"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn config_file_and_rir_dir() {
    let d = tmpdir("config");
    // Trusting nothing but loopback, the origin is the top hop's sender.
    let o = bin()
        .args(["trace", "--format", "json"])
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(json_lines(&o)[0]["origin"]["ip"], "211.129.14.73");

    std::fs::write(d.join("abusedesk.toml"), "[trust]\ntrusted_networks = [\"211.129.14.0/24\"]\nour_hosts = [\"smtp.estate.ocn.ne.jp\"]\n\n[server]\nignored = true\n").unwrap();
    let o = bin()
        .args(["trace", "--format", "json", "--config"])
        .arg(d.join("abusedesk.toml"))
        .arg(sample())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_lines(&o)[0]["origin"]["ip"], "143.90.172.25");

    std::fs::write(d.join("bad.toml"), "[trust]\ntrusted_netwroks = []\n").unwrap();
    let o = bin()
        .args(["trace", "--config"])
        .arg(d.join("bad.toml"))
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("trusted_netwroks"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A delegated-statistics file that (falsely, for the test) gives the block to KR.
    let rir = d.join("rir");
    std::fs::create_dir_all(&rir).unwrap();
    std::fs::write(
        rir.join("delegated-apnic-extended-latest"),
        "2|apnic|20240101|2|19830613|20240101|+1000\napnic|*|ipv4|*|2|summary\napnic|KR|ipv4|143.90.0.0|65536|19910101|allocated|A1\napnic|JP|ipv4|211.129.0.0|65536|19990101|allocated|A2\n",
    )
    .unwrap();
    let o = bin()
        .args([
            "trace",
            "--format",
            "json",
            "--trusted",
            "211.129.14.73",
            "--rir-dir",
        ])
        .arg(&rir)
        .arg(sample())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_lines(&o)[0]["origin"]["country"], "KR");

    let o = bin()
        .args(["trace", "--rir-dir"])
        .arg(d.join("missing"))
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&d).unwrap();
}
