// Error codes become HTTP statuses, problem+json bodies and challenges in one table, the verifier
// package's (packages/verify/src/problem.ts): a resource server answers exactly as Gatehouse does.
export { challengeFor, problem, statusOf, type Problem } from '@gatehouse/verify/problem';
