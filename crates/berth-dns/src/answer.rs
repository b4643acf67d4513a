//! Deciding what to do with one query: answer it from the [`Resolver`], refuse it, or hand it
//! to the forwarder; and encoding replies within the client's size limit.

use std::net::Ipv4Addr;

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use rand::seq::SliceRandom;

use crate::names::{normalize, parse_ipv4_arpa, strip_search_domain};
use crate::{Resolver, LOCAL_TTL};

/// The smallest UDP payload every DNS client accepts (RFC 1035).
const MIN_UDP_PAYLOAD: usize = 512;
/// The EDNS payload size we advertise (the DNS Flag Day 2020 value).
const ADVERTISED_UDP_PAYLOAD: u16 = 1232;

/// A parsed query and the largest UDP reply its sender accepts.
#[derive(Debug)]
pub(crate) struct Query {
    pub message: Message,
    pub udp_limit: usize,
}

#[derive(Debug)]
pub(crate) enum Outcome {
    /// Not a query we answer (unparsable, or itself a response): stay silent.
    Ignore,
    /// A reply made here, without asking upstream.
    Reply { reply: Message, udp_limit: usize },
    /// Not a local name and forwarding is allowed: relay the raw query upstream.
    Forward(Query),
}

/// What to do with the raw query `raw` from container `asker`.
pub(crate) fn decide(raw: &[u8], asker: &str, resolver: &dyn Resolver) -> Outcome {
    let Ok(message) = Message::from_vec(raw) else {
        return Outcome::Ignore;
    };
    if message.metadata.message_type != MessageType::Query {
        return Outcome::Ignore;
    }
    let udp_limit = usize::from(message.max_payload()).max(MIN_UDP_PAYLOAD);
    let refuse = |code| Outcome::Reply {
        reply: error_reply(&message, code),
        udp_limit,
    };
    if message.metadata.op_code != OpCode::Query {
        return refuse(ResponseCode::NotImp);
    }
    let [question] = message.queries.as_slice() else {
        return refuse(ResponseCode::FormErr);
    };
    if question.query_class() == DNSClass::IN {
        if let Some(answers) =
            local_answers(asker, resolver, question.name(), question.query_type())
        {
            let mut reply = reply_to(&message);
            reply.metadata.authoritative = true;
            reply.answers = answers;
            return Outcome::Reply { reply, udp_limit };
        }
    }
    if resolver.may_forward(asker) {
        Outcome::Forward(Query { message, udp_limit })
    } else {
        // Docker answers SERVFAIL too when a container's networks are all internal.
        refuse(ResponseCode::ServFail)
    }
}

/// The answer records for a local name (possibly none: the name exists without that type),
/// or `None` when `name` is not local.
fn local_answers(
    asker: &str,
    resolver: &dyn Resolver,
    name: &Name,
    query_type: RecordType,
) -> Option<Vec<Record>> {
    let normalized = normalize(name);
    if query_type == RecordType::PTR {
        if let Some(target) =
            parse_ipv4_arpa(&normalized).and_then(|ip| resolver.lookup_ptr(asker, ip))
        {
            let target = Name::from_ascii(format!("{}.", target.trim_end_matches('.'))).ok()?;
            return Some(vec![Record::from_rdata(
                name.clone(),
                LOCAL_TTL,
                RData::PTR(PTR(target)),
            )]);
        }
    }
    let mut addresses = lookup_with_search_domains(asker, resolver, &normalized)?;
    if !matches!(query_type, RecordType::A | RecordType::ANY) {
        // The name exists but has no records of this type: NOERROR with no answers, so that
        // e.g. an AAAA miss does not make musl or glibc give up on the A answer.
        return Some(Vec::new());
    }
    // Round-robin between containers sharing an alias, as Docker does.
    addresses.shuffle(&mut rand::thread_rng());
    Some(
        addresses
            .into_iter()
            .map(|ip: Ipv4Addr| Record::from_rdata(name.clone(), LOCAL_TTL, RData::A(A(ip))))
            .collect(),
    )
}

fn lookup_with_search_domains(
    asker: &str,
    resolver: &dyn Resolver,
    name: &str,
) -> Option<Vec<Ipv4Addr>> {
    if name.is_empty() {
        return None;
    }
    if let Some(found) = resolver.lookup_ipv4(asker, name) {
        return Some(found);
    }
    resolver
        .search_domains(asker)
        .iter()
        .filter_map(|domain| strip_search_domain(name, domain))
        .find_map(|short| resolver.lookup_ipv4(asker, short))
}

/// An empty reply to `query`: same ID and question, RD and CD copied, RA set, EDNS echoed.
fn reply_to(query: &Message) -> Message {
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata = Metadata::response_from_request(&query.metadata);
    reply.metadata.recursion_available = true;
    reply.queries = query.queries.clone();
    if query.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(ADVERTISED_UDP_PAYLOAD);
        reply.edns = Some(edns);
    }
    reply
}

/// A reply to `query` carrying only the error `code`.
pub(crate) fn error_reply(query: &Message, code: ResponseCode) -> Message {
    let mut reply = reply_to(query);
    reply.metadata.response_code = code;
    reply
}

/// `reply` in wire form, at most `limit` bytes: answers that do not fit are dropped and TC is
/// set, so the client retries over TCP. `None` only if the message cannot be encoded at all.
pub(crate) fn encode(mut reply: Message, limit: usize) -> Option<Vec<u8>> {
    loop {
        let bytes = match reply.to_vec() {
            Ok(bytes) => bytes,
            Err(err) => {
                tracing::debug!("cannot encode DNS reply: {err}");
                return None;
            }
        };
        let has_records = !(reply.answers.is_empty()
            && reply.authorities.is_empty()
            && reply.additionals.is_empty());
        if bytes.len() <= limit || !has_records {
            return Some(bytes);
        }
        reply.metadata.truncation = true;
        reply.additionals.clear();
        reply.authorities.clear();
        // Records of one reply are of similar size: guess how many fit, then shrink further.
        let keep = reply.answers.len() * limit / bytes.len();
        reply
            .answers
            .truncate(keep.min(reply.answers.len().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query as Question;

    fn query(id: u16, name: &str, query_type: RecordType) -> Message {
        let mut message = Message::query();
        message.metadata.id = id;
        message.metadata.recursion_desired = true;
        message.add_query(Question::query(Name::from_ascii(name).unwrap(), query_type));
        message
    }

    fn many_answers(count: u8) -> Message {
        let mut reply = reply_to(&query(7, "many.", RecordType::A));
        for i in 0..count {
            reply.add_answer(Record::from_rdata(
                Name::from_ascii("many.").unwrap(),
                LOCAL_TTL,
                RData::A(A(Ipv4Addr::new(10, 0, 0, i))),
            ));
        }
        reply
    }

    #[test]
    fn encode_keeps_a_reply_that_fits() {
        let bytes = encode(many_answers(3), 512).unwrap();
        let decoded = Message::from_vec(&bytes).unwrap();
        assert_eq!(decoded.answers.len(), 3);
        assert!(!decoded.metadata.truncation);
        assert_eq!(decoded.metadata.id, 7);
    }

    #[test]
    fn encode_truncates_to_the_limit_and_sets_tc() {
        let bytes = encode(many_answers(200), 512).unwrap();
        assert!(bytes.len() <= 512, "{} bytes", bytes.len());
        let decoded = Message::from_vec(&bytes).unwrap();
        assert!(decoded.metadata.truncation);
        assert!(!decoded.answers.is_empty() && decoded.answers.len() < 200);
        let whole = Message::from_vec(&encode(many_answers(200), 65535).unwrap()).unwrap();
        assert_eq!(whole.answers.len(), 200);
        assert!(!whole.metadata.truncation);
    }

    #[test]
    fn error_reply_echoes_id_question_and_flags() {
        let q = query(0x1234, "x.example.", RecordType::MX);
        let reply = error_reply(&q, ResponseCode::ServFail);
        assert_eq!(reply.metadata.id, 0x1234);
        assert_eq!(reply.metadata.message_type, MessageType::Response);
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
        assert!(reply.metadata.recursion_desired);
        assert_eq!(reply.queries, q.queries);
        assert!(reply.edns.is_none());
    }
}
