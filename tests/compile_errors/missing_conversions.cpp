// Programs that must not compile, one per -DCASE_<name>: a type without nlohmann's
// to_json/from_json, or a callable without parameter types, where bond needs them. check.sh
// compiles each and expects bond's static_assert; with -DWITH_CONVERSIONS each compiles.
#include <bond/bond.hpp>

namespace geometry {
struct Point {
    int x = 0;
    int y = 0;
};
#ifdef WITH_CONVERSIONS
void to_json(bond::Value& value, const Point& point) {
    value = {point.x, point.y};
}
void from_json(const bond::Value& value, Point& point) {
    point = {value.at(0).get<int>(), value.at(1).get<int>()};
}
#endif
}  // namespace geometry

using geometry::Point;

[[maybe_unused]] void use(bond::Bond& bond, bond::Object& object, bond::Function& function) {
#if defined(CASE_call_argument)
    bond.call("f", 1, Point{1, 2});
#elif defined(CASE_function_argument)
    function(Point{1, 2});
#elif defined(CASE_object_set)
    object.set("where", Point{1, 2});
#elif defined(CASE_typed_result)
    auto distance = bond.function<Point(int)>("f");
    distance(1);
#elif defined(CASE_export_parameter)
    bond.export_function("f", [](int, Point point) { return point.x; });
#elif defined(CASE_export_result)
    bond.export_function("f", [](int x) { return Point{x, x}; });
#elif defined(CASE_generic_lambda)
#ifdef WITH_CONVERSIONS
    bond.export_function("f", [](int x) { return x; });
#else
    bond.export_function("f", [](auto x) { return x; });
#endif
#else
#error "no CASE_ given"
#endif
}
