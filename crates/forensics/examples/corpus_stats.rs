use abusedesk_forensics::*;
fn main() {
    let mut hops = 0;
    let mut unparsed = 0;
    let mut noip = 0;
    let mut msgs = 0;
    let mut origins = 0;
    let mut samples = Vec::new();
    let cfg = TraceConfig::default();
    for dir in std::env::args().skip(1) {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let raw = std::fs::read(&p).unwrap();
            let t = trace(&raw, &cfg);
            msgs += 1;
            if t.origin.is_some() {
                origins += 1;
            }
            for h in &t.hops {
                hops += 1;
                if !h.received.parsed {
                    unparsed += 1;
                    if samples.len() < 400 {
                        samples.push(format!("U {}", h.raw.replace('\n', " ")));
                    }
                } else if h.received.from_ip.is_none()
                    && h.received.from_helo.is_some()
                    && !h.received.local
                    && h.synthetic.is_none()
                {
                    noip += 1;
                    if samples.len() < 400 {
                        samples.push(format!("N {}", h.raw.replace('\n', " ")));
                    }
                }
            }
        }
    }
    println!(
        "msgs {msgs} origins {origins} hops {hops} unparsed {unparsed} from-without-ip {noip}"
    );
    for s in samples {
        println!("{s}");
    }
}
