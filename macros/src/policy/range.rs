//! Address ranges as the `ip(..)` leaves write them.

/// Parses `"10.0.0.0/8"`, `"2001:db8::/32"` or a single address (as `/32` or `/128`).
pub(crate) fn parse(value: &str) -> Result<ipnet::IpNet, String> {
    let net = match value.parse::<ipnet::IpNet>() {
        Ok(net) => net,
        Err(_) => match value.parse::<std::net::IpAddr>() {
            Ok(ip) => ipnet::IpNet::from(ip),
            Err(_) => {
                return Err(format!(
                    "`{value}` is not an IP range: write a CIDR such as `\"10.0.0.0/8\"` or \
                     `\"2001:db8::/32\"`, or a single address"
                ));
            }
        },
    };
    if net.trunc() != net {
        return Err(format!(
            "`{value}` has address bits set past its /{} prefix: did you mean `\"{}\"`?",
            net.prefix_len(),
            net.trunc()
        ));
    }
    Ok(ipv4_if_mapped(net))
}

/// An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`, RFC 4291 §2.5.5.2) as the IPv4 range it
/// stands for (`10.0.0.0/8`). Client addresses are compared in their IPv4 form, so the range
/// as written could never match anyone.
fn ipv4_if_mapped(net: ipnet::IpNet) -> ipnet::IpNet {
    const MAPPED_PREFIX: u8 = 96;
    if let ipnet::IpNet::V6(v6) = net
        && v6.prefix_len() >= MAPPED_PREFIX
        && let Some(v4) = v6.addr().to_ipv4_mapped()
        && let Ok(v4) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - MAPPED_PREFIX)
    {
        return ipnet::IpNet::V4(v4);
    }
    net
}
