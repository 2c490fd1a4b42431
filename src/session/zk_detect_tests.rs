use prost::Message;

use super::*;

/// MESOS-PROTOCOL-2 §3.3's example for a master on 10.0.0.5:5050.
const EXAMPLE: &str = r#"{"id":"6a3f0e0c-8d5b-4f51-9c4e-2f1d7b8a9e10","ip":83886090,"port":5050,
 "pid":"master@10.0.0.5:5050","hostname":"m1.example","version":"1.11.0",
 "address":{"hostname":"m1.example","ip":"10.0.0.5","port":5050},
 "domain":{"fault_domain":{"region":{"name":"us-east-1"},"zone":{"name":"us-east-1a"}}},
 "capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}]}"#;

fn json_endpoint(data: &str) -> Result<String, DetectError> {
    Contender::parse("json.info_0000000001").unwrap().endpoint(data.as_bytes()).map(|e| e.url())
}

#[test]
fn zk_url_parses_the_documented_forms() {
    let url = ZkUrl::parse(" zk://zk1:2181,zk2:2181,zk3:2181/mesos ").unwrap();
    assert_eq!(url.servers(), ["zk1:2181", "zk2:2181", "zk3:2181"]);
    assert_eq!(url.path(), "/mesos");
    assert_eq!(url.credentials(), None);
    let url = ZkUrl::parse("zk://ops:s3cret@zk1:2181/mesos/").unwrap();
    assert_eq!(url.credentials(), Some(("ops", "s3cret")));
    assert_eq!(url.path(), "/mesos");
    let url = ZkUrl::parse("zk://a:b@c@zk1,[::1]:2182/a/b").unwrap();
    assert_eq!(url.credentials(), Some(("a", "b@c")));
    assert_eq!(url.servers(), ["zk1:2181", "[::1]:2182"]);
    assert_eq!(url.path(), "/a/b");
    assert!(ZkUrl::is_zk("zk://h/p") && !ZkUrl::is_zk("http://h:1"));
}

#[test]
fn zk_url_refuses_bad_urls_with_a_reason() {
    let cases = [
        ("http://zk1:2181/mesos", "must start with zk://"),
        ("zk://zk1:2181", "expecting a (chroot) path"),
        ("zk://zk1:2181/", "expecting a (chroot) path"),
        ("zk://zk1:2181//mesos", "empty component"),
        ("zk://:pw@zk1:2181/mesos", "user:password"),
        ("zk://nopassword@zk1:2181/mesos", "user:password"),
        ("zk://zk1:99999/mesos", "host[:port]"),
        ("zk://zk1:2181,/mesos", "host[:port]"),
        ("zk://:2181/mesos", "host[:port]"),
        ("zk://[::1/mesos", "host[:port]"),
        ("zk://zk1:x/mesos", "host[:port]"),
    ];
    for (url, reason) in cases {
        let error = ZkUrl::parse(url).unwrap_err().to_string();
        assert!(error.contains(reason) && error.contains(url), "{url}: {error}");
    }
}

#[test]
fn contender_reads_labels_and_sequences() {
    let json = Contender::parse("json.info_0000000007").unwrap();
    assert_eq!((json.label(), json.sequence()), (Some("json.info"), 7));
    let old = Contender::parse("info_0000000003").unwrap();
    assert_eq!((old.label(), old.sequence()), (Some("info"), 3));
    let bare = Contender::parse("0000000001").unwrap();
    assert_eq!((bare.label(), bare.sequence()), (None, 1));
    for odd in ["log_replicas", "json.info_", "json.info_12a", "json.info_+5", "", "_", "lock"] {
        assert_eq!(Contender::parse(odd), None, "{odd}");
    }
}

#[test]
fn leader_of_picks_the_smallest_sequence_of_any_label() {
    let children = ["json.info_0000000012", "log_replicas", "json.info_0000000010", "junk", "json.info_0000000011"];
    assert_eq!(leader_of(children).unwrap().name(), "json.info_0000000010");
    // Mixed versions: an old master's `info_` node with a smaller sequence leads.
    let mixed = ["json.info_0000000008", "info_0000000003", "0000000005"];
    assert_eq!(leader_of(mixed).unwrap().name(), "info_0000000003");
    assert_eq!(leader_of([]), None);
    assert_eq!(leader_of(["log_replicas", "something"]), None);
}

#[test]
fn endpoint_from_the_documented_master_info() {
    assert_eq!(json_endpoint(EXAMPLE).unwrap(), "http://10.0.0.5:5050/api/v1/scheduler");
}

#[test]
fn endpoint_falls_back_from_address_to_pid_to_ip() {
    let pid_only = r#"{"id":"x","ip":1,"port":1,"pid":"master@10.0.0.6:5051"}"#;
    assert_eq!(json_endpoint(pid_only).unwrap(), "http://10.0.0.6:5051/api/v1/scheduler");
    // 127.0.1.1 as a little-endian s_addr, as in the Mesos docs.
    let ip_only = r#"{"id":"x","ip":16842879,"port":5052}"#;
    assert_eq!(json_endpoint(ip_only).unwrap(), "http://127.0.1.1:5052/api/v1/scheduler");
    let hostname = r#"{"id":"x","hostname":"m2.example"}"#;
    assert_eq!(json_endpoint(hostname).unwrap(), "http://m2.example:5050/api/v1/scheduler");
    let address_hostname = r#"{"id":"x","ip":1,"port":1,"address":{"hostname":"m3","port":6060}}"#;
    assert_eq!(json_endpoint(address_hostname).unwrap(), "http://m3:6060/api/v1/scheduler");
    let ipv6 = r#"{"id":"x","address":{"ip":"::1","port":5050}}"#;
    assert_eq!(json_endpoint(ipv6).unwrap(), "http://[::1]:5050/api/v1/scheduler");
}

#[test]
fn endpoint_of_malformed_data_is_an_error() {
    for bad in ["", "{", "[]", "42", r#"{"id":"x"}"#, r#"{"address":{"ip":"10.0.0.1","port":70000}}"#, "\u{0}"] {
        let error = json_endpoint(bad).unwrap_err();
        assert_eq!(error.node(), "json.info_0000000001", "{bad}");
    }
    let unknown = Contender::parse("other_0000000001").unwrap().endpoint(EXAMPLE.as_bytes()).unwrap_err();
    assert!(unknown.to_string().contains("unknown label"), "{unknown}");
    let bare = Contender::parse("0000000002").unwrap();
    assert!(bare.endpoint(b"not a pid").is_err());
    assert!(bare.endpoint(&[0xff, 0xfe]).is_err());
    let old = Contender::parse("info_0000000002").unwrap();
    assert!(old.endpoint(&[0xff, 0xff, 0xff]).is_err());
}

#[test]
fn endpoint_of_older_masters() {
    let bare = Contender::parse("0000000002").unwrap();
    assert_eq!(bare.endpoint(b"master@10.0.0.7:5050\n").unwrap().authority(), "10.0.0.7:5050");
    let info = v1::MasterInfo { id: "m".into(), ip: 83_886_090, port: 5053, ..Default::default() };
    let old = Contender::parse("info_0000000002").unwrap();
    assert_eq!(old.endpoint(&info.encode_to_vec()).unwrap().authority(), "10.0.0.5:5053");
}

fn master_info(ip: [u8; 4], port: u16, hostname: &str) -> v1::MasterInfo {
    let dotted = std::net::Ipv4Addr::from(ip).to_string();
    v1::MasterInfo {
        id: "6a3f0e0c-8d5b-4f51-9c4e-2f1d7b8a9e10".into(),
        ip: u32::from_le_bytes(ip),
        port: u32::from(port),
        pid: Some(format!("master@{dotted}:{port}")),
        hostname: Some(hostname.into()),
        version: Some("1.11.0".into()),
        address: Some(v1::Address { hostname: Some(hostname.into()), ip: Some(dotted), port: i32::from(port) }),
        capabilities: Vec::new(),
    }
}

#[test]
fn master_info_json_writes_what_mesos_writes() {
    let data = master_info_json(&master_info([10, 0, 0, 5], 5050, "m1.example"));
    let written: Value = serde_json::from_slice(&data).unwrap();
    // The §3.3 example without the optional domain and capabilities.
    let mut expected: Value = serde_json::from_str(EXAMPLE).unwrap();
    let object = expected.as_object_mut().unwrap();
    object.remove("domain");
    object.remove("capabilities");
    assert_eq!(written, expected);
    // Declaration order, as `JSON::protobuf` writes it.
    let text = String::from_utf8(data).unwrap();
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    assert!(
        at("id") < at("ip") && at("ip") < at("port") && at("pid") < at("hostname") && at("version") < at("address")
    );
}

#[test]
fn master_info_json_reads_back_and_escapes() {
    let mut info = master_info([127, 0, 0, 2], 39001, "host \"two\"\n");
    let data = master_info_json(&info);
    let leader = Contender::parse("json.info_0000000012").unwrap();
    assert_eq!(leader.endpoint(&data).unwrap().authority(), "127.0.0.2:39001");
    let json: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(json["hostname"], "host \"two\"\n");
    // Without an address, the pid is read; without a pid either, ip and port.
    info.address = None;
    assert_eq!(leader.endpoint(&master_info_json(&info)).unwrap().authority(), "127.0.0.2:39001");
    info.pid = None;
    assert_eq!(leader.endpoint(&master_info_json(&info)).unwrap().authority(), "127.0.0.2:39001");
}

#[test]
fn standing_follows_the_smallest_sequence_of_any_label() {
    let children = ["log_replicas", "json.info_0000000009", "info_0000000005", "json.info_0000000007"];
    assert_eq!(
        standing(children, "json.info_0000000007"),
        Standing::Following { leader: Contender::parse("info_0000000005").unwrap() }
    );
    assert_eq!(standing(children[..2].iter().copied(), "json.info_0000000009"), Standing::Leading);
    assert_eq!(standing(children, "json.info_0000000003"), Standing::Absent);
    assert_eq!(standing([], "json.info_0000000003"), Standing::Absent);
    // Only the owner of the smallest node leads: never two leaders in one listing.
    let leading = children.iter().filter(|own| standing(children, own) == Standing::Leading).count();
    assert_eq!(leading, 1);
}

#[test]
fn redirect_target_names_the_leader_but_never_itself() {
    let leader = Contender::parse("json.info_0000000001").unwrap();
    let data = master_info_json(&master_info([127, 0, 0, 1], 5050, "localhost"));
    assert_eq!(redirect_target(&leader, &data, "127.0.0.1:5051").as_deref(), Some("127.0.0.1:5050"));
    assert_eq!(redirect_target(&leader, &data, "127.0.0.1:5050"), None);
    assert_eq!(redirect_target(&leader, b"{}", "127.0.0.1:5051"), None);
}
