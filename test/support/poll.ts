// The one wait of the tests lives in dev/poll.ts (the local stack waits the same way).
export * from '../../dev/poll';
