// The test page: SelfCommunity's friendship widgets, mounted with SCContextProvider against
// this server (the portal) with a JWT session, and nothing else handed over: the preferences,
// features, user and settings are the UI's own calls. Query: portal, token, me (the user whose
// lists show), other (the profile the page shows).
import React, {useEffect, useState} from 'react';
import {createRoot} from 'react-dom/client';
import {SCContextProvider} from '@selfcommunity/react-core';
import {
  FriendshipUserButton,
  UserConnectionsRequestsSentWidget,
  UserConnectionsRequestsWidget,
  UserConnectionsWidget,
  UserCounters,
  UserProfileHeader,
  UserSuggestionWidget,
} from '@selfcommunity/react-ui';

const query = new URLSearchParams(location.search);
const portal = query.get('portal');
const token = query.get('token');
const me = Number(query.get('me'));
const other = Number(query.get('other'));
const conf = {portal, session: {type: 'JWT', authToken: {accessToken: token}}};

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
      <div id="button"><FriendshipUserButton user={user} /></div>
      <div id="counters"><UserCounters user={user} /></div>
    </>
  );
}

function App() {
  return (
    <SCContextProvider conf={conf}>
      <Profile />
      <div id="connections"><UserConnectionsWidget userId={me} /></div>
      <div id="requests"><UserConnectionsRequestsWidget userId={me} /></div>
      <div id="sent"><UserConnectionsRequestsSentWidget userId={me} /></div>
      <div id="suggestions"><UserSuggestionWidget /></div>
    </SCContextProvider>
  );
}

createRoot(document.getElementById('root')).render(<App />);
