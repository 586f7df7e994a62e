/** Messages read per history page: bounds the memory one resuming client can take at once. */
export const HISTORY_PAGE_SIZE = 500;
