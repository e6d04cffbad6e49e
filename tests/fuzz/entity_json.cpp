// Fuzz target: entity JSON decoding (codec.hpp) for each of the twelve POS
// entity types (pos/entities.hpp), and the client's decoding of a pull page
// (wire/client_messages.hpp) that carries them.
//
// The first byte picks the entity type (byte % 12) and how to decode
// (byte / 12 % 4: strict, lenient, create, or as a pull page); the rest is
// JSON text.
// Invariants: decoding never crashes; a decoded record re-encodes to JSON
// (the same text as Boost.JSON's own conversion writes) that decodes, even
// strictly and with every member required, to an equal record; a failed
// decode onto a record leaves it unchanged; a decoded pull page's records
// round-trip the same way.
#include "fuzz.hpp"

#include <incsync/codec.hpp>
#include <incsync/delta.hpp>
#include <incsync/pos/entities.hpp>
#include <incsync/wire/client_messages.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <string_view>

namespace fuzz_entity_json {

using namespace incsync;

template <entity E>
void check_round_trip(const E& v)
{
    const auto text = to_json(v);
    INCSYNC_FUZZ_CHECK(text == boost::json::serialize(to_value(v)));
    const auto back = from_json_text<E>(text, decode_options{.require_all_members = true});
    INCSYNC_FUZZ_CHECK(back.has_value());
    INCSYNC_FUZZ_CHECK(*back == v);
    INCSYNC_FUZZ_CHECK(to_json(*back) == text);
}

template <entity E>
void check_entity(std::string_view text, unsigned how)
{
    if (how == 3) {
        const auto page = wire::decode_pull_response<E>(text);
        if (!page) return;
        for (const auto& v : page->upserts) check_round_trip(v);
        return;
    }
    static constexpr decode_options modes[] = {strict_decode, lenient_decode, create_decode};
    const auto& opts = modes[how];
    const auto v = from_json_text<E>(text, opts);
    if (v) check_round_trip(*v);

    // Onto an existing record: all or nothing, and only the members given.
    boost::system::error_code ec;
    const auto jv = boost::json::parse(text, ec);
    if (ec || !jv.is_object()) {
        INCSYNC_FUZZ_CHECK(!v);
        return;
    }
    E target{};
    target.id = 42;
    target.updated_at = timestamp{1'766'485'800'123'456};
    const E before = target;
    const auto members = decode_members(target, jv.get_object(), opts);
    INCSYNC_FUZZ_CHECK(members.has_value() == v.has_value());
    if (!members) {
        INCSYNC_FUZZ_CHECK(target == before);
        return;
    }
    INCSYNC_FUZZ_CHECK(members->contains(diff(before, target)));
    for (std::size_t i = 0; i < member_count<E>; ++i)
        INCSYNC_FUZZ_CHECK(members->test(i) == jv.get_object().contains(member_names<E>[i]));
    check_round_trip(target);
}

} // namespace fuzz_entity_json

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace fuzz_entity_json;
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    const unsigned pick = data[0] % 12;
    const unsigned how = data[0] / 12 % 4;
    unsigned i = 0;
    for_each_entity<pos::entities>([&]<class E>(std::type_identity<E>) {
        if (i++ == pick) check_entity<E>(text, how);
    });
    return 0;
}
