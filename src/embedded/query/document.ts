/** A BSON document as the server holds it after deserialization (promoted values). */
export type Document = Record<string, unknown>;
