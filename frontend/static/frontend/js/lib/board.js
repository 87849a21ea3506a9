// The board's cards of matches it has not shown yet, without the DOM (tested under Node).
//
// A frame of an unknown match (a match created after the page loaded) makes the board fetch
// the match's details once, however many frames come meanwhile. The reply is as new as the
// server's read of the match: a frame published after that read but arriving before the
// reply would be lost with it (the card would show the match before its kick-off, say, until
// its next frame). So when frames came during the fetch, the new card asks the stream for the
// match's current state (a resync), whose snapshot is newer than all of them.
export function cardMaker({ cards, fetchInfo, makeCard, resync }) {
  const fetching = new Map(); // match id -> promise of its card
  const framesMeanwhile = new Set(); // match ids with frames that came during their fetch

  return function ensureCard(id) {
    if (cards.has(id)) return Promise.resolve(cards.get(id));
    if (fetching.has(id)) {
      framesMeanwhile.add(id);
      return fetching.get(id);
    }
    const request = Promise.resolve()
      .then(() => fetchInfo(id))
      .then((info) => {
        fetching.delete(id);
        const late = framesMeanwhile.delete(id);
        if (!info || cards.has(id)) return cards.get(id) || null;
        const card = makeCard(info);
        cards.set(id, card);
        if (late) resync(id);
        return card;
      })
      .catch(() => {
        fetching.delete(id);
        framesMeanwhile.delete(id);
        return null;
      });
    fetching.set(id, request);
    return request;
  };
}
