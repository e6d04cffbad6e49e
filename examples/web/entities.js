// The twelve entity types of PROTOCOL.md §1. `name` is what notifications and
// the IndexedDB object stores use, `path` the pull URL segment.

export const ENTITY_TYPES = Object.freeze([
    { name: 'product', path: 'products' },
    { name: 'category', path: 'categories' },
    { name: 'material', path: 'materials' },
    { name: 'unit_of_measure', path: 'unit-of-measures' },
    { name: 'product_unit_of_measure', path: 'product-unit-of-measures' },
    { name: 'material_unit_of_measure', path: 'material-unit-of-measures' },
    { name: 'recipe', path: 'recipes' },
    { name: 'recipe_material', path: 'recipe-materials' },
    { name: 'setting', path: 'settings' },
    { name: 'table', path: 'tables' },
    { name: 'inventory_config', path: 'inventory-config' },
    { name: 'document_prefix', path: 'document-prefixes' },
]);

export const ENTITY_NAMES = Object.freeze(ENTITY_TYPES.map((t) => t.name));

const byNameOrPath = new Map(ENTITY_TYPES.flatMap((t) => [[t.name, t], [t.path, t]]));

/// The entity type a notification names (its name or its path segment), or
/// undefined for a type this page does not know (a newer server's).
export function entityType(nameOrPath) {
    return byNameOrPath.get(nameOrPath);
}
