// The one error class and its fixed set of codes (design §8.3) live in the verifier package
// (packages/verify/src/errors.ts): a resource server throws and answers the very same codes, and
// one class means `instanceof` holds for errors from either side.
export { ERROR_CODES, GatehouseError, isGatehouseError, type ErrorCode, type FieldError } from '@gatehouse/verify/errors';
