// The model: what makes a plain struct an entity type, and the compile-time
// tables (member names, entity lists) everything generic is driven by.
#ifndef INCSYNC_ENTITY_HPP
#define INCSYNC_ENTITY_HPP

#include <incsync/timestamp.hpp>

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace incsync {

/// Which registers see a record.
enum class scope {
    global, ///< every register
    store,  ///< only registers of the record's `store_id` (an `int64_t` member)
    mixed,  ///< `store_id` is `std::optional<int64_t>`: null rows are global
};

/// Entity traits. The primary template is left undefined: a type is an entity
/// only once it is specialized, which `INCSYNC_ENTITY` does in one line.
/// A specialization provides:
///   static constexpr std::string_view entity_type;  // "product"
///   static constexpr std::string_view path;         // "products"
///   static constexpr incsync::scope scope;
/// and may provide `required_members` (an array of member names that a create
/// must supply), replacing the default: `name` if the entity has one, plus
/// `store_id` for store-scoped types.
template <class T>
struct entity_traits;

namespace detail {

template <class T>
using public_members = boost::describe::describe_members<T, boost::describe::mod_public>;

template <class T, class D>
using member_type = std::remove_cvref_t<decltype(std::declval<T&>().*D::pointer)>;

template <class T>
constexpr auto make_member_names()
{
    std::array<std::string_view, boost::mp11::mp_size<public_members<T>>::value> names{};
    std::size_t i = 0;
    boost::mp11::mp_for_each<public_members<T>>([&](auto D) { names[i++] = D.name; });
    return names;
}

template <class T>
constexpr bool has_member_named(std::string_view name)
{
    for (auto n : make_member_names<T>())
        if (n == name) return true;
    return false;
}

template <class T, class M>
constexpr bool member_has_type(std::string_view name)
{
    bool ok = false;
    boost::mp11::mp_for_each<public_members<T>>([&](auto D) {
        if (std::string_view(D.name) == name)
            ok = std::is_same_v<member_type<T, decltype(D)>, M>;
    });
    return ok;
}

template <class T>
constexpr bool has_valid_store_member()
{
    switch (entity_traits<T>::scope) {
    case scope::global: return true;
    case scope::store: return member_has_type<T, std::int64_t>("store_id");
    case scope::mixed: return member_has_type<T, std::optional<std::int64_t>>("store_id");
    }
    return false;
}

} // namespace detail

/// A struct described with `BOOST_DESCRIBE_STRUCT` (all members public).
template <class T>
concept described = std::is_class_v<T> && boost::describe::has_describe_members<T>::value;

/// Maximum number of members of an entity: a member set is one 64-bit word.
inline constexpr std::size_t max_entity_members = 64;

/// An entity type: a described struct with `int64_t id`, `timestamp updated_at`,
/// a `store_id` matching its scope, and an `entity_traits` specialization.
template <class T>
concept entity = described<T> && requires {
    { entity_traits<T>::entity_type } -> std::convertible_to<std::string_view>;
    { entity_traits<T>::path } -> std::convertible_to<std::string_view>;
    { entity_traits<T>::scope } -> std::convertible_to<scope>;
} && detail::member_has_type<T, std::int64_t>("id")
  && detail::member_has_type<T, timestamp>("updated_at")
  && detail::has_valid_store_member<T>()
  && (boost::mp11::mp_size<detail::public_members<T>>::value <= max_entity_members);

/// Number of described members of `T`.
template <described T>
inline constexpr std::size_t member_count = boost::mp11::mp_size<detail::public_members<T>>::value;

/// Member names of `T` in declaration order: the index of a name here is its
/// bit in a `member_set`.
template <described T>
inline constexpr auto member_names = detail::make_member_names<T>();

/// Index of the member called `name`, or `member_count<T>` when there is none.
template <described T>
constexpr std::size_t member_index(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < member_names<T>.size(); ++i)
        if (member_names<T>[i] == name) return i;
    return member_count<T>;
}

/// The entity's `entity_type` name, e.g. "product".
template <entity T>
inline constexpr std::string_view entity_type_name = entity_traits<T>::entity_type;

/// The entity's path segment, e.g. "products".
template <entity T>
inline constexpr std::string_view entity_path = entity_traits<T>::path;

/// The entity's scope.
template <entity T>
inline constexpr scope entity_scope = entity_traits<T>::scope;

namespace detail {

template <class T>
constexpr auto default_required_members()
{
    constexpr bool named = has_member_named<T>("name");
    constexpr bool stored = entity_traits<T>::scope == scope::store;
    std::array<std::string_view, std::size_t(named) + std::size_t(stored)> r{};
    std::size_t i = 0;
    if constexpr (named) r[i++] = "name";
    if constexpr (stored) r[i++] = "store_id";
    return r;
}

template <class T>
constexpr auto select_required_members()
{
    if constexpr (requires { entity_traits<T>::required_members; })
        return entity_traits<T>::required_members;
    else
        return default_required_members<T>();
}

} // namespace detail

/// Members a create must supply (present and not null).
template <entity T>
inline constexpr auto required_members = detail::select_required_members<T>();

/// The store a record belongs to: nullopt for global records.
template <entity T>
constexpr std::optional<std::int64_t> store_of(const T& v) noexcept
{
    if constexpr (entity_scope<T> == scope::global)
        return std::nullopt;
    else
        return v.store_id;
}

/// A compile-time list of entity types, e.g. `entity_list<product, category>`.
template <entity... Es>
using entity_list = boost::mp11::mp_list<Es...>;

/// True when `L` is an `entity_list` whose entity_type names and paths are unique.
template <class L>
concept entity_list_like = boost::mp11::mp_is_list<L>::value && boost::mp11::mp_size<L>::value > 0;

/// Calls `f(std::type_identity<E>{})` for each entity type of `L`, in order.
template <entity_list_like L, class F>
constexpr void for_each_entity(F&& f)
{
    boost::mp11::mp_for_each<boost::mp11::mp_transform<std::type_identity, L>>(f);
}

/// Finds the entity type of `L` whose entity_type name or path is `name` and
/// calls `f(std::type_identity<E>{})`. Returns false when there is none.
template <entity_list_like L, class F>
constexpr bool visit_entity(std::string_view name, F&& f)
{
    bool found = false;
    for_each_entity<L>([&]<class E>(std::type_identity<E> tag) {
        if (!found && (entity_type_name<E> == name || entity_path<E> == name)) {
            found = true;
            f(tag);
        }
    });
    return found;
}

/// Position of `E` in `L`.
template <entity_list_like L, entity E>
inline constexpr std::size_t entity_index = boost::mp11::mp_find<L, E>::value;

} // namespace incsync

/// Declares `Type` an entity: `INCSYNC_ENTITY(shop::widget, "widget", "widgets", global)`.
/// Write it at global namespace scope; `Type` must also be described with
/// `BOOST_DESCRIBE_STRUCT` in its own namespace.
#define INCSYNC_ENTITY(Type, EntityType, Path, Scope)                          \
    template <>                                                                \
    struct incsync::entity_traits<Type> {                                      \
        static constexpr std::string_view entity_type = EntityType;            \
        static constexpr std::string_view path = Path;                         \
        static constexpr ::incsync::scope scope = ::incsync::scope::Scope;     \
    }

#endif
