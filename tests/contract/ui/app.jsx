// The test page: SelfCommunity's friendship widgets (or, with mode=follow, its follow widgets),
// mounted with SCContextProvider against this server (the portal) with a JWT session, and
// nothing else handed over: the preferences, features, user and settings are the UI's own
// calls. Query: portal, token, me (the user whose lists show), other (the profile the page
// shows), mode.
import React, {useEffect, useState} from 'react';
import {createRoot} from 'react-dom/client';
import {SCContextProvider} from '@selfcommunity/react-core';
import {
  FollowUserButton,
  FriendshipUserButton,
  UserConnectionsRequestsSentWidget,
  UserConnectionsRequestsWidget,
  UserConnectionsWidget,
  UserCounters,
  UserFollowedUsersWidget,
  UserFollowersWidget,
  UserProfileHeader,
  UserSuggestionWidget,
  ToastNotifications,
} from '@selfcommunity/react-ui';

const query = new URLSearchParams(location.search);
const portal = query.get('portal');
const token = query.get('token');
const me = Number(query.get('me'));
const other = Number(query.get('other'));
const followMode = query.get('mode') === 'follow';
// react-core opens its notification socket on the portal's host name without a port
// (ws://HOST/ws/notify): in production a reverse proxy routes /ws/ there to the server. This
// page stands in for that proxy by adding the server's port (query: ws, the server's host:port).
const wsHost = query.get('ws');
if (wsHost) {
  const Native = window.WebSocket;
  const portalHost = new URL(portal).hostname;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(String(url).replace(`://${portalHost}/ws/`, `://${wsHost}/ws/`), protocols);
    }
  };
}
const conf = {
  portal,
  session: {type: 'JWT', authToken: {accessToken: token}},
  notifications: {webSocket: {secure: false}},
};

function Profile() {
  // The button takes the user object: given an id alone, react-ui reads it before it is loaded.
  const [user, setUser] = useState(null);
  useEffect(() => {
    fetch(`${portal}/api/v2/user/${other}/`, {headers: {Authorization: `Bearer ${token}`}})
      .then((r) => r.json())
      .then(setUser);
  }, []);
  if (!user) return null;
  return (
    <>
      <div id="header"><UserProfileHeader user={user} /></div>
      <div id="button">{followMode ? <FollowUserButton user={user} /> : <FriendshipUserButton user={user} />}</div>
      <div id="counters"><UserCounters user={user} /></div>
    </>
  );
}

function App() {
  if (followMode) {
    return (
      <SCContextProvider conf={conf}>
        <Profile />
        <div id="followers"><UserFollowersWidget userId={me} /></div>
        <div id="followed"><UserFollowedUsersWidget userId={me} /></div>
        <div id="toasts"><ToastNotifications /></div>
      </SCContextProvider>
    );
  }
  return (
    <SCContextProvider conf={conf}>
      <Profile />
      <div id="connections"><UserConnectionsWidget userId={me} /></div>
      <div id="requests"><UserConnectionsRequestsWidget userId={me} /></div>
      <div id="sent"><UserConnectionsRequestsSentWidget userId={me} /></div>
      <div id="suggestions"><UserSuggestionWidget /></div>
      <div id="toasts"><ToastNotifications /></div>
    </SCContextProvider>
  );
}

createRoot(document.getElementById('root')).render(<App />);
